"""Routing: ordered rules that send a new ticket to a team (priority, tags, assignee), and
assignment within a team by round robin or fewest open tickets. See ``docs/routing.md``."""
