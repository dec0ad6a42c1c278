// The telemetry tests assert who listens to "BaloyiBank.*" sources, which is process-wide: one test at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
