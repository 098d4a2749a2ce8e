"""Customer contracts (お客様番号) and the links between members and contracts."""
