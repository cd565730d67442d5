"""Test support shared by every tier: local servers and fixtures that more than one test uses."""
