"""cohear's `surveys` domain package (see README, "Where the code lives")."""
