"""Speech: audio helpers, streaming VAD segmentation, ASR, prosody, TTS (pure core, no ROS).

    audio.py    float32 mono conversion, resampling, WAV, chunks, levels
    vad.py      UtteranceSegmenter (Silero VAD, streaming): push() -> [SpeechSegment]
    asr.py      SpeechRecognizer (faster-whisper): transcribe(samples_16k) -> Transcript
    prosody.py  extract_prosody(samples, sample_rate_hz, text) -> ProsodyFeatures
    tts.py      SpeechSynthesizer (Piper): synthesize(text), stream(text) per sentence
    wer.py      word_error_rate(reference, hypothesis)

Model errors are llm.model.ModelNotFoundError (also importable from asr and tts). Heavy
libraries are imported when a model is loaded, not when these modules are imported.
"""
