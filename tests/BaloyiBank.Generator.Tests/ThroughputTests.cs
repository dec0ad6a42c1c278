using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace BaloyiBank.Generator.Tests;

/// <summary>Reports generation speed (meaningful in Release; the suite runs in Debug, so no hard floor).</summary>
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void Generation_with_and_without_serialization_is_measured()
    {
        var settings = StreamSettings.From(new GeneratorOptions { InitialCustomers = 1_000 });
        const int count = 150_000;

        var simulation = new BankSimulation(settings);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            simulation.Next();
        }

        var skipRate = count / watch.Elapsed.TotalSeconds;

        simulation = new BankSimulation(settings);
        using var encoder = new PayloadEncoder();
        var arena = new PayloadArena();
        long bytes = 0;
        watch.Restart();
        for (var i = 0; i < count; i++)
        {
            bytes += arena.Copy(encoder.Encode(simulation.Next())).Length;
        }

        var fullRate = count / watch.Elapsed.TotalSeconds;
        output.WriteLine($"generate only (resume skip): {skipRate:N0}/s; generate + serialize: {fullRate:N0}/s; {bytes / (double)count:N0} B/payload");
        Assert.True(skipRate > fullRate);
    }
}
