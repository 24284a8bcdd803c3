"""cohear's `language_packs` domain package (see README, "Where the code lives")."""
