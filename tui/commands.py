"""The command palette's list of actions (Ctrl+P): every action the screen in front and
the app offer this person, under the same names the footer shows.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ActionsProvider(Provider):
    """Offers each action bound to a shown key on the current screen or the app. Actions
    the role may not take are not among the screen's active bindings at all, and those
    that can do nothing right now (shown dimmed in the footer) are left out too."""

    def _actions(self) -> list[tuple[str, str, object]]:
        seen: set[str] = set()
        found = []
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if (binding.action in seen or binding.action == "command_palette"
                    or not binding.show or not binding.description or not active.enabled):
                continue
            seen.add(binding.action)
            help_text = f"key: {self.app.get_key_display(binding) or key}"
            found.append((binding.description, help_text,
                          partial(active.node.run_action, binding.action)))
        return found

    async def discover(self) -> Hits:
        for title, help_text, run in self._actions():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._actions():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)
