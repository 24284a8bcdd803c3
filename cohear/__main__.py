import sys

from cohear.cli import main

sys.exit(main())
