using BaloyiBank.EventLog;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace BaloyiBank.Generator.Tests;

public sealed class OptionsTests
{
    private static List<string> Problems(GeneratorOptions options) =>
        new GeneratorOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(Problems(new GeneratorOptions()));
        var defaults = new GeneratorOptions();
        Assert.Equal(42, defaults.Seed);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), defaults.Start);
        Assert.Equal(200_000, defaults.EventsPerSimulatedDay);
        Assert.Equal(10_000, defaults.InitialCustomers);
        Assert.Equal(0, defaults.Rate);
        Assert.InRange(defaults.Defects.Total, 0.01, 0.05);
    }

    [Fact]
    public void A_negative_rate_names_the_option_the_value_and_the_fix()
    {
        var problem = Assert.Single(Problems(new GeneratorOptions { Rate = -5 }));
        Assert.StartsWith("Generator:Rate must be ≥ 0 (got -5). Fix: ", problem, StringComparison.Ordinal);
        Assert.Contains("--rate", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_must_be_a_utc_instant()
    {
        var problem = Assert.Single(Problems(new GeneratorOptions { Start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(2)) }));
        Assert.StartsWith("Generator:Start must be a UTC instant", problem, StringComparison.Ordinal);
        Assert.Contains("Fix: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Shares_must_lie_in_zero_to_one_and_sum_below_a_half()
    {
        var outOfRange = Problems(new GeneratorOptions { Defects = new DefectShares { Duplicate = 1.5 } });
        Assert.Contains(outOfRange, p => p.StartsWith("Generator:Defects:Duplicate must be a share between 0 and 1 (got 1.5). Fix: ", StringComparison.Ordinal));
        var tooDirty = Problems(new GeneratorOptions { Defects = new DefectShares { MalformedJson = 0.3, MissingField = 0.3 } });
        var problem = Assert.Single(tooDirty);
        Assert.StartsWith("Generator:Defects shares must sum to less than 0.5", problem, StringComparison.Ordinal);
        Assert.Contains("Fix: lower some Generator__Defects__* shares", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_setting_is_reported_at_once()
    {
        var problems = Problems(new GeneratorOptions { BatchSize = 0, MaxEvents = -1, InitialCustomers = 0, EventsPerSimulatedDay = 10, Duration = TimeSpan.Zero, StopAtSequence = 0 });
        foreach (var option in new[] { "BatchSize", "MaxEvents", "InitialCustomers", "EventsPerSimulatedDay", "Duration", "StopAtSequence" })
        {
            Assert.Contains(problems, p => p.StartsWith($"Generator:{option} ", StringComparison.Ordinal) && p.Contains(". Fix: ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Settings_bind_from_configuration_and_fail_start_up_when_invalid()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Generator:Seed"] = "7",
            ["Generator:Start"] = "2026-03-01T00:00:00Z",
            ["Generator:Defects:Duplicate"] = "0.01",
            ["Generator:Rate"] = "-1",
            ["EventLog:Embedded:Directory"] = Path.Combine(Path.GetTempPath(), "never-created"),
        }).Build();
        var services = new ServiceCollection().AddLogging().AddEventLog(configuration).AddGenerator(configuration);
        using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IOptionsMonitor<GeneratorOptions>>();
        var failure = Assert.Throws<OptionsValidationException>(() => monitor.CurrentValue);
        Assert.Contains("Generator:Rate must be ≥ 0 (got -1)", failure.Message, StringComparison.Ordinal);

        configuration["Generator:Rate"] = "0";
        using var valid = new ServiceCollection().AddLogging().AddEventLog(configuration).AddGenerator(configuration).BuildServiceProvider();
        var options = valid.GetRequiredService<IOptions<GeneratorOptions>>().Value;
        Assert.Equal(7, options.Seed);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), options.Start);
        Assert.Equal(0.01, options.Defects.Duplicate);
        Assert.Equal(0.002, options.Defects.MalformedJson);
    }
}
