"""Encoder–decoder plumbing shared by notebooks 4 and 5: encoders, model, training, greedy decoding.

The notebooks write the decoders. A decoder is a layer called as
``decoder(target_ids, encoder_outputs, source_mask, state)`` that returns
``(logits, state, attention_weights or None)``.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from attentionlab.text import END_ID, PAD_ID, START_ID, Vocab, batches, pad

QUIET = "ATTENTIONLAB_QUIET"  # set by the grader: one line per epoch instead of progress bars
SMOKE = "ATTENTIONLAB_TRAIN_BATCHES"  # set by the grader's tests: train on this many batches only
WARMUP_STEPS = 100  # updates at a rising learning rate before the cosine decay


@dataclass(frozen=True)
class Recipe:
    """How every translator of the course trains, the baseline and the attention models alike: a comparison then
    measures the architecture, not the training. Each trains until its validation loss stops improving."""

    batch_size: int = 128
    learning_rate: float = 1e-2  # the peak, reached after WARMUP_STEPS; then a cosine decay over max_epochs
    max_epochs: int = 20
    patience: int = 2  # epochs without a lower validation loss before stopping; the best epoch's weights are kept


RECIPE = Recipe()


class Encoder(layers.Layer):
    """Embedding + LSTM over the source; returns (outputs (B, S, U), [h, c], source mask (B, S))."""

    def __init__(self, vocab_size: int, embedding_dim: int, units: int, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(vocab_size, embedding_dim)
        self.lstm = layers.LSTM(units, return_sequences=True, return_state=True)

    def call(self, source_ids):
        mask = ops.not_equal(source_ids, PAD_ID)
        outputs, h, c = self.lstm(self.embedding(source_ids), mask=mask)
        return outputs, [h, c], mask


class BiEncoder(layers.Layer):
    """Bahdanau's encoder: a bidirectional LSTM (units / 2 each way); h_j joins both directions' outputs at j.

    The decoder starts from s_0 = tanh(W_s ←h_1), the backward LSTM's summary, as in the paper (memory zero).
    Returns (outputs (B, S, units), [s_0, 0], source mask (B, S)).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, units: int, **kwargs):
        super().__init__(**kwargs)
        self.embedding = layers.Embedding(vocab_size, embedding_dim)
        self.lstm = layers.Bidirectional(layers.LSTM(units // 2, return_sequences=True, return_state=True))
        self.initial = layers.Dense(units, activation="tanh")

    def call(self, source_ids):
        mask = ops.not_equal(source_ids, PAD_ID)
        outputs, _, _, h_backward, _ = self.lstm(self.embedding(source_ids), mask=mask)
        s_0 = self.initial(h_backward)
        return outputs, [s_0, ops.zeros_like(s_0)], mask


def recur(step, inputs, state):
    """Apply ``step(x_t, state) -> (output_t, state, weights_t)`` along the time axis of ``inputs`` (B, T, E).

    For decoders whose step needs the previous state before it reads its input (Bahdanau's); returns
    (outputs (B, T, ...), final state, weights (B, T, S)).
    """
    steps = tf.shape(inputs)[1]
    outputs = tf.TensorArray(inputs.dtype, size=steps)
    weights = tf.TensorArray(inputs.dtype, size=steps)

    def body(t, state, outputs, weights):
        output, state, w = step(inputs[:, t], state)
        return t + 1, state, outputs.write(t, output), weights.write(t, w)

    _, state, outputs, weights = tf.while_loop(lambda t, *_: t < steps, body, (0, list(state), outputs, weights))
    return tf.transpose(outputs.stack(), [1, 0, 2]), state, tf.transpose(weights.stack(), [1, 0, 2])


class Seq2Seq(keras.Model):
    """An encoder and a decoder, trained with teacher forcing and decoded greedily."""

    def __init__(self, encoder, decoder, src_vocab: Vocab, tgt_vocab: Vocab, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab

    def call(self, inputs):
        source_ids, target_in = inputs
        outputs, state, mask = self.encoder(source_ids)
        logits, _, _ = self.decoder(target_in, outputs, mask, state)
        return logits

    @tf.function(reduce_retracing=True)
    def _step(self, token, outputs, mask, state):
        logits, state, weights = self.decoder(token, outputs, mask, state)
        if weights is None:
            weights = tf.zeros((tf.shape(token)[0], 1, tf.shape(outputs)[1]))
        return ops.argmax(logits[:, -1], axis=-1), state, weights[:, 0]

    def translate(self, sentences, max_len: int = 20, batch_size: int = 512, return_attention: bool = False):
        """Greedy translations (and, optionally, each one's (target × source) attention weights)."""
        texts, attention = [], []
        for start in range(0, len(sentences), batch_size):
            chunk = list(sentences[start:start + batch_size])
            source = pad([self.src_vocab.encode(s) for s in chunk])
            outputs, state, mask = self.encoder(source)
            token = np.full((len(chunk), 1), START_ID, dtype="int32")
            tokens, weights = [], []
            for _ in range(max_len):
                next_id, state, w = self._step(token, outputs, mask, state)
                token = ops.convert_to_numpy(next_id).astype("int32")[:, None]
                tokens.append(token[:, 0])
                weights.append(ops.convert_to_numpy(w))
                if np.all(np.any(np.stack(tokens, 1) == END_ID, axis=1)):
                    break
            tokens, weights = np.stack(tokens, 1), np.stack(weights, 1)
            texts += [self.tgt_vocab.decode(row) for row in tokens]
            attention += [weights[i, :len(texts[start + i].split()) + 1, :len(s.split())]
                          for i, s in enumerate(chunk)]
        return (texts, attention) if return_attention else texts

    def forced_attention(self, pairs, batch_size: int = 512):
        """Each (english, spanish) pair's attention when the decoder is given the reference (teacher forcing):
        (words + end × source) weights, row t where the step that writes reference word t looks. None without
        attention. An alignment is measured on the reference, whatever the model would write itself."""
        found = []
        for start in range(0, len(pairs), batch_size):
            chunk = list(pairs[start:start + batch_size])
            source = pad([self.src_vocab.encode(english) for english, _ in chunk])
            target = pad([self.tgt_vocab.encode(spanish, start_end=True)[:-1] for _, spanish in chunk])
            outputs, state, mask = self.encoder(source)
            _, _, weights = self.decoder(target, outputs, mask, state)
            if weights is None:
                return None
            weights = ops.convert_to_numpy(weights)
            found += [weights[i, :len(es.split()) + 1, :len(en.split())] for i, (en, es) in enumerate(chunk)]
        return found


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch, in ``self.seconds``."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def cosine_schedule(learning_rate: float, steps: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """From learning_rate / 10 up to learning_rate over WARMUP_STEPS, then along a cosine down to 5% of it at ``steps``:
    a large rate early speeds learning up, a small one late lets the weights settle."""
    return keras.optimizers.schedules.CosineDecay(learning_rate / 10, max(steps - WARMUP_STEPS, 1), alpha=0.05,
                                                  warmup_target=learning_rate, warmup_steps=WARMUP_STEPS)


def fit(model, optimizer, loss, train_ds, val_ds, epochs: int, patience: int | None = None) -> dict:
    """Compile and fit with validation; return losses (untrained too) and epoch times. Shared by every trainer.

    With ``patience``, training stops once the validation loss has not improved for that many epochs, and the weights
    of the best epoch are restored (``best_epoch``, counted from 1). Under SMOKE (the grader's tests) one epoch of a
    few batches runs eagerly: tracing the training graph would cost more than those batches, and the model stays
    untrained either way.
    """
    smoke = int(os.environ.get(SMOKE, 0))
    model.compile(optimizer=optimizer, loss=loss, run_eagerly=bool(smoke))
    if smoke:
        epochs, train_ds, val_ds = 1, train_ds.take(smoke), val_ds.take(1)
    timer = EpochTimer()
    callbacks = [timer]
    if patience:
        callbacks.append(keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True))
    initial_val_loss = model.evaluate(val_ds, verbose=0)  # where the curves start: the untrained model
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks, shuffle=False,
                        verbose=2 if os.environ.get(QUIET) else 1)
    val_loss = history.history["val_loss"]
    return {"initial_val_loss": initial_val_loss, "loss": history.history["loss"], "val_loss": val_loss,
            "best_epoch": int(np.argmin(val_loss)) + 1, "epoch_seconds": timer.seconds,
            "train_seconds": sum(timer.seconds)}


def train(model: Seq2Seq, corpus, recipe: Recipe = RECIPE, loss=None, seed: int = 0) -> dict:
    """Fit on corpus.train with ``recipe``, validating on corpus.val; return losses (untrained too), the best epoch
    (whose weights the model keeps), epoch times and throughput."""
    loss = loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID)
    train_ds = batches(corpus.train, model.src_vocab, model.tgt_vocab, recipe.batch_size, shuffle=True, seed=seed)
    val_ds = batches(corpus.val, model.src_vocab, model.tgt_vocab, 512)
    schedule = cosine_schedule(recipe.learning_rate, recipe.max_epochs * len(train_ds))
    optimizer = keras.optimizers.Adam(schedule, clipnorm=1.0)
    run = fit(model, optimizer, loss, train_ds, val_ds, recipe.max_epochs, recipe.patience)
    target_tokens = sum(len(es.split()) + 1 for _, es in corpus.train)
    return {**run, "tokens_per_second": target_tokens * len(run["epoch_seconds"]) / run["train_seconds"]}
