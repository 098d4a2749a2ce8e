"""各種お手続き: a citizen's water business (moving in and out, holder, billing address, payment,
paperless, reductions) filed in the portal and processed by the city's staff."""
