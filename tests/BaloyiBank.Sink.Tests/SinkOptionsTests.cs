namespace BaloyiBank.Sink.Tests;

public sealed class SinkOptionsTests
{
    [Fact]
    public void DefaultsAreValid() => Assert.True(new SinkOptionsValidator().Validate(null, new SinkOptions()).Succeeded);

    [Fact]
    public void AZeroIntervalIsRefusedWithTheOptionAndTheFix()
    {
        var result = new SinkOptionsValidator().Validate(null, new SinkOptions { Interval = TimeSpan.Zero, Pipeline = "Bad-Name" });
        Assert.True(result.Failed);
        Assert.Contains(result.Failures, f => f.StartsWith("Sink:Interval ", StringComparison.Ordinal) && f.Contains("Fix: set Sink__Interval", StringComparison.Ordinal));
        Assert.Contains(result.Failures, f => f.StartsWith("Sink:Pipeline ", StringComparison.Ordinal));
    }
}
