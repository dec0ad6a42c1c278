using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Bus;

/// <summary>The control bus between services. Section "Bus".</summary>
public sealed class BusOptions
{
    public const string SectionName = "Bus";
    public const string InMemoryKind = "inmemory";

    /// <summary>The bus's transports, for messages ("rabbitmq" joins with MassTransit.RabbitMQ).</summary>
    public static readonly IReadOnlyList<string> Kinds = [InMemoryKind];

    /// <summary>Which transport: "inmemory" (one process, the embedded default).</summary>
    public string Kind { get; set; } = InMemoryKind;

    /// <summary>Prepended to every queue name, so several environments can share one broker; empty for none.</summary>
    public string EndpointPrefix { get; set; } = "";

    /// <summary>Redeliveries straight after a consumer throws (a lost race, a brief lock).</summary>
    public int ImmediateRetries { get; set; } = 2;

    /// <summary>Redeliveries after that, <see cref="RetryInterval"/> apart, before the message goes to the error queue.</summary>
    public int IntervalRetries { get; set; } = 3;

    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(2);
}

public sealed class BusOptionsValidator : IValidateOptions<BusOptions>
{
    private const int MaxRetries = 20;

    public ValidateOptionsResult Validate(string? name, BusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kinds = string.Join(", ", BusOptions.Kinds);
        return new OptionProblems(BusOptions.SectionName)
            .Require(BusOptions.Kinds.Contains(options.Kind, StringComparer.OrdinalIgnoreCase), "Kind",
                $"must be one of {kinds} (got '{options.Kind}')", $"set Bus__Kind to {kinds}.")
            .Require(options.ImmediateRetries is >= 0 and <= MaxRetries, "ImmediateRetries",
                $"must be between 0 and {MaxRetries} (got {options.ImmediateRetries})", "set Bus__ImmediateRetries to e.g. 2.")
            .Require(options.IntervalRetries is >= 0 and <= MaxRetries, "IntervalRetries",
                $"must be between 0 and {MaxRetries} (got {options.IntervalRetries})", "set Bus__IntervalRetries to e.g. 3.")
            .Require(options.RetryInterval > TimeSpan.Zero && options.RetryInterval <= TimeSpan.FromMinutes(10), "RetryInterval",
                $"must be above 0 and at most 00:10:00 (got {options.RetryInterval})", "set Bus__RetryInterval to e.g. 00:00:02.")
            .Require(options.EndpointPrefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), "EndpointPrefix",
                $"may hold only letters, digits, '-', '_' and '.' (got '{options.EndpointPrefix}')", "set Bus__EndpointPrefix to e.g. prod or leave it empty.")
            .ToResult();
    }
}
