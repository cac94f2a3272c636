seed_node = "rok1"
