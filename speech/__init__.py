"""cohear's `speech` domain package (see README, "Where the code lives")."""
