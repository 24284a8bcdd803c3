"""cohear's `comms` domain package (see README, "Where the code lives")."""
