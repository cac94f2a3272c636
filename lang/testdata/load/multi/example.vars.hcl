# A variable file sits beside the code; as code it would be an error
# (top-level attributes are not allowed), so Load must skip it.
seed_node = "rok1"
