"""The one id type of every path, query and body id: a whole number from 1 to 2**53.

SQLite keeps 64-bit integers and JSON clients in browsers lose precision above 2**53,
so a larger number can name no row. Declaring it here refuses such an id at the edge
with a 422 that says what was wrong, instead of a 500 from deep inside a query (an
integer over 2**63 cannot even be bound as an SQLite parameter).
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import Field

MAX_ID = 2**53

# Works as a path parameter, a query parameter (also in a list) and a body field alike.
# The example (1, the first row of anything) lets the fuzz tests' explicit phase reach
# objects that exist.
Id = Annotated[int, Ge(1), Le(MAX_ID), Field(json_schema_extra={"examples": [1]})]
