"""Local stand-ins for third-party services that cannot be reached offline.

They speak the services' documented wire formats."""
