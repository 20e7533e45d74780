"""A corpus of custom gradients users write, correct and mutated (issue 23): see cases.py."""
