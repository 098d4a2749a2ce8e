"""Area alerts (断水・濁水・工事): staff publish to the streets a works order affects (issue 14 §4)."""
