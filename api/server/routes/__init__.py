"""HTTP routes: thin functions that parse, authorise, call one domain function, and return."""
