"""Pure model and rules of Allo: no I/O, no ORM, no web framework, no wall clock."""
