"""Scheduled jobs (APScheduler, in their own process): each computes "today" in the fund's time
zone, opens a session and calls a service. Filled in by the scheduler issue."""
