"""Sentences the speech tests say. A module of its own, not conftest: every test folder has a
conftest, and `from conftest import ...` gets whichever one pytest imported last."""

DEBTOR_SENTENCES = (
    "I lost my job last month and I cannot pay the full amount now.",
    "Can I pay the balance in ninety days instead?",
    "Please give me more time to pay.",
)
