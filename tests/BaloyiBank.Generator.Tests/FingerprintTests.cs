using Xunit;

namespace BaloyiBank.Generator.Tests;

public sealed class FingerprintTests
{
    [Fact]
    public void Stream_shaping_settings_change_the_fingerprint_and_pacing_does_not()
    {
        var baseline = StreamSettings.From(new GeneratorOptions()).Fingerprint();
        Assert.Matches("^[0-9a-f]{16}$", baseline);
        Assert.Equal(baseline, StreamSettings.From(new GeneratorOptions { Rate = 10, Burst = 5, BatchSize = 7, MaxEvents = 9, Duration = TimeSpan.FromSeconds(1), StopAtSequence = 3 }).Fingerprint());
        Assert.NotEqual(baseline, StreamSettings.From(new GeneratorOptions { Seed = 43 }).Fingerprint());
        Assert.NotEqual(baseline, StreamSettings.From(new GeneratorOptions { Start = GeneratorOptions.DefaultStart.AddSeconds(1) }).Fingerprint());
        Assert.NotEqual(baseline, StreamSettings.From(new GeneratorOptions { EventsPerSimulatedDay = 100_000 }).Fingerprint());
        Assert.NotEqual(baseline, StreamSettings.From(new GeneratorOptions { InitialCustomers = 9_999 }).Fingerprint());
        Assert.NotEqual(baseline, StreamSettings.From(new GeneratorOptions { Defects = new DefectShares { Late = 0.011 } }).Fingerprint());
    }

    [Fact]
    public void Differences_are_named_as_the_options_are()
    {
        var logged = StreamSettings.From(new GeneratorOptions { Seed = 7, Defects = new DefectShares { Duplicate = 0.01 } }).Canonical();
        var now = StreamSettings.From(new GeneratorOptions());
        Assert.Equal(["Seed (log: 7, now: 42)", "Defects:Duplicate (log: 0.01, now: 0.005)"], now.DifferencesFrom(logged));
        Assert.StartsWith("Model=2;Seed=42;Start=2026-01-01T00:00:00Z;EventsPerSimulatedDay=200000;InitialCustomers=10000;Defects:Late=0.01", now.Canonical(), StringComparison.Ordinal);
    }
}
