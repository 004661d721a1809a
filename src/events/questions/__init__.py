"""Questions per guest: what an organiser asks at checkout and claim (e.g. dietary and allergen needs), the guests'
answers, and the kitchen list that counts them without names."""
