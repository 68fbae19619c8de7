"""A spoken negotiation through the real node graph with a simulated debtor who speaks: the engine
of `eq-negotiator demo`, `bench-latency` and the end-to-end tests (session), and the observer that
speaks into the graph and records what each node did (voice_driver). Not node executables: they
drive the graph from outside, as a person and a microphone would."""
