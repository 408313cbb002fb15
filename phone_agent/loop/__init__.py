"""The perceive-plan-act loop: one step in five phases, its dialects, its policies and what it reports."""
