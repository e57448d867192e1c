"""Every chart: a negotiation's convergence and utility space (``negotiation``), a
sweep's heatmap, lines and sensitivity (``sweep``), and what they share: palette,
captions, layout (``style``). Charts draw what the engine, the theory layer and the
results computed; they compute no model quantity of their own.
"""
