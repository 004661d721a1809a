"""Gift Aid: donors' declarations at checkout, the HMRC claim schedule, and what each partner can claim."""
