"""The analytics-report job type: a user's (or, for admins, everyone's) job history as figures."""
