"""Poll Bot: live polls, approvals and quick replies for Microsoft Teams."""
