using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Bus;

/// <summary>The control bus between services. Section "Bus".</summary>
public sealed class BusOptions
{
    public const string SectionName = "Bus";
    public const string InMemoryKind = "inmemory";
    public const string RabbitMqKind = "rabbitmq";

    /// <summary>The bus's transports, for messages.</summary>
    public static readonly IReadOnlyList<string> Kinds = [InMemoryKind, RabbitMqKind];

    /// <summary>Which transport: "inmemory" (one process, the embedded default) or "rabbitmq" (services in separate processes).</summary>
    public string Kind { get; set; } = InMemoryKind;

    /// <summary>Prepended to every queue name, so several environments can share one broker; empty for none.</summary>
    public string EndpointPrefix { get; set; } = "";

    /// <summary>Redeliveries straight after a consumer throws (a lost race, a brief lock).</summary>
    public int ImmediateRetries { get; set; } = 2;

    /// <summary>Redeliveries after that, <see cref="RetryInterval"/> apart, before the message goes to the error queue.</summary>
    public int IntervalRetries { get; set; } = 3;

    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The broker when <see cref="Kind"/> is "rabbitmq" (section "Bus:RabbitMq").</summary>
    public BusRabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>True when <see cref="Kind"/> names the RabbitMQ transport (any case).</summary>
    public bool IsRabbitMq => string.Equals(Kind, RabbitMqKind, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// "Bus:RabbitMq": where the broker is. Either <see cref="Uri"/> or the parts; a part that is set wins over the
/// URI's, so the URI can stay in a config file while <see cref="Password"/> comes from a secret store
/// (<c>Bus__RabbitMq__Password</c>). The password is never logged nor put in a message.
/// </summary>
public sealed class BusRabbitMqOptions
{
    public const string SectionName = "Bus:RabbitMq";

    /// <summary><c>amqp://user:password@host:5672/vhost</c> or <c>amqps://…:5671/…</c> (TLS); empty to use the parts alone.</summary>
    public string? Uri { get; set; }

    /// <summary>Broker host name; default the URI's, else 127.0.0.1.</summary>
    public string? Host { get; set; }

    /// <summary>AMQP port; default the URI's, else 5672 (5671 with TLS).</summary>
    public int? Port { get; set; }

    /// <summary>Virtual host; default the URI's, else "/".</summary>
    public string? VirtualHost { get; set; }

    /// <summary>User; default the URI's, else guest (which RabbitMQ accepts from localhost only).</summary>
    public string? Username { get; set; }

    /// <summary>Password; default the URI's, else guest. A secret: from the environment or a secret store, never a committed file.</summary>
    public string? Password { get; set; }

    /// <summary>TLS; default true for an amqps URI, else false.</summary>
    public bool? UseSsl { get; set; }

    /// <summary>AMQP heartbeat: how fast a dead connection is noticed on either side, default 10 s.</summary>
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages the broker sends each endpoint ahead of its acknowledgements, default 16.</summary>
    public int PrefetchCount { get; set; } = 16;

    /// <summary>The URI with its password replaced by ***, for logs and messages.</summary>
    public string MaskedUri => UriMasking.Mask(Uri);

    /// <summary>The broker these options name (the parts over the URI over the defaults). Call after validation.</summary>
    public BrokerAddress Resolve()
    {
        var uri = string.IsNullOrWhiteSpace(Uri) ? null : new Uri(Uri, UriKind.Absolute);
        string? uriUser = null, uriPassword = null;
        if (uri is not null && uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            uriUser = System.Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            uriPassword = colon < 0 ? null : System.Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        // As RabbitMQ.Client reads a URI: "amqp://h" and "amqp://h/" are the default vhost "/", "amqp://h/%2F" too.
        var uriVirtualHost = uri is { Segments.Length: > 1 } ? System.Uri.UnescapeDataString(uri.Segments[1]) : null;
        var useSsl = UseSsl ?? string.Equals(uri?.Scheme, "amqps", StringComparison.OrdinalIgnoreCase);
        var uriPort = uri is { Port: > 0 } ? uri.Port : (int?)null;
        return new BrokerAddress
        {
            Host = NonEmpty(Host) ?? uri?.IdnHost ?? "127.0.0.1",
            Port = Port ?? uriPort ?? (useSsl ? 5671 : 5672),
            VirtualHost = NonEmpty(VirtualHost) ?? NonEmpty(uriVirtualHost) ?? "/",
            Username = NonEmpty(Username) ?? NonEmpty(uriUser) ?? "guest",
            Password = Password ?? uriPassword ?? "guest",
            UseSsl = useSsl,
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>A broker to connect to. <see cref="ToString"/> masks the password, so an address may be logged.</summary>
public sealed class BrokerAddress
{
    public required string Host { get; init; }

    public required int Port { get; init; }

    public required string VirtualHost { get; init; }

    public required string Username { get; init; }

    /// <summary>The secret: hand it to the client library, never to a log or a message.</summary>
    public required string Password { get; init; }

    public required bool UseSsl { get; init; }

    /// <summary>The broker as an AMQP URI with the password shown as ***.</summary>
    public override string ToString()
    {
        var vhost = VirtualHost == "/" ? "" : System.Uri.EscapeDataString(VirtualHost);
        var host = System.Uri.CheckHostName(Host) == UriHostNameType.IPv6 ? $"[{Host}]" : Host;
        return $"{(UseSsl ? "amqps" : "amqp")}://{System.Uri.EscapeDataString(Username)}:***@{host}:{Port}/{vhost}";
    }
}

public sealed class BusOptionsValidator : IValidateOptions<BusOptions>
{
    private const int MaxRetries = 20;

    public ValidateOptionsResult Validate(string? name, BusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kinds = string.Join(", ", BusOptions.Kinds);
        var problems = new OptionProblems(BusOptions.SectionName)
            .Require(BusOptions.Kinds.Contains(options.Kind, StringComparer.OrdinalIgnoreCase), "Kind",
                $"must be one of {kinds} (got '{options.Kind}')", $"set Bus__Kind to {kinds}.")
            .Require(options.ImmediateRetries is >= 0 and <= MaxRetries, "ImmediateRetries",
                $"must be between 0 and {MaxRetries} (got {options.ImmediateRetries})", "set Bus__ImmediateRetries to e.g. 2.")
            .Require(options.IntervalRetries is >= 0 and <= MaxRetries, "IntervalRetries",
                $"must be between 0 and {MaxRetries} (got {options.IntervalRetries})", "set Bus__IntervalRetries to e.g. 3.")
            .Require(options.RetryInterval > TimeSpan.Zero && options.RetryInterval <= TimeSpan.FromMinutes(10), "RetryInterval",
                $"must be above 0 and at most 00:10:00 (got {options.RetryInterval})", "set Bus__RetryInterval to e.g. 00:00:02.")
            .Require(options.EndpointPrefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'), "EndpointPrefix",
                $"may hold only letters, digits, '-', '_' and '.' (got '{options.EndpointPrefix}')", "set Bus__EndpointPrefix to e.g. prod or leave it empty.");
        if (options.IsRabbitMq)
        {
            CheckRabbitMq(problems, options.RabbitMq ?? new BusRabbitMqOptions());
        }

        return problems.ToResult();
    }

    /// <summary>The "Bus:RabbitMq" checks; messages show the URI with its password masked.</summary>
    private static void CheckRabbitMq(OptionProblems problems, BusRabbitMqOptions rabbit)
    {
        const string Example = "amqp://user:password@rabbitmq.example:5672/ or amqps://…:5671/vhost";
        var hasUri = !string.IsNullOrWhiteSpace(rabbit.Uri);
        Uri? uri = null;
        var uriOk = !hasUri
            || (System.Uri.TryCreate(rabbit.Uri, UriKind.Absolute, out uri)
                && uri.Scheme is "amqp" or "amqps"
                && !string.IsNullOrEmpty(uri.Host)
                && uri.Segments.Length <= 2
                && string.IsNullOrEmpty(uri.Query)
                && string.IsNullOrEmpty(uri.Fragment));
        problems
            .Require(uriOk, "RabbitMq:Uri",
                $"must be an absolute amqp:// or amqps:// URI with a host and at most one path segment, the virtual host (got '{rabbit.MaskedUri}')",
                $"set Bus__RabbitMq__Uri to e.g. {Example} (the password from the environment or a secret store, not a file), or leave it empty and set Bus__RabbitMq__Host.")
            .Require(string.IsNullOrEmpty(rabbit.Host) || System.Uri.CheckHostName(rabbit.Host) != UriHostNameType.Unknown, "RabbitMq:Host",
                $"must be a host name or IP address (got '{UriMasking.Mask(rabbit.Host)}')",
                "set Bus__RabbitMq__Host to e.g. rabbitmq.example, or put a whole URI in Bus__RabbitMq__Uri.")
            .Require(rabbit.Port is null or (>= 1 and <= 65535), "RabbitMq:Port",
                $"must be between 1 and 65535 (got {rabbit.Port})", "set Bus__RabbitMq__Port to e.g. 5672 (5671 for TLS) or leave it unset.")
            .Require(!(rabbit.UseSsl == false && uri?.Scheme == "amqps"), "RabbitMq:UseSsl",
                $"is false but Bus:RabbitMq:Uri asks for TLS (got '{rabbit.MaskedUri}')",
                "remove Bus__RabbitMq__UseSsl, or use an amqp:// URI if the broker really has no TLS.")
            .Require(rabbit.Heartbeat >= TimeSpan.FromSeconds(1) && rabbit.Heartbeat <= TimeSpan.FromMinutes(10), "RabbitMq:Heartbeat",
                $"must be between 00:00:01 and 00:10:00 (got {rabbit.Heartbeat})", "set Bus__RabbitMq__Heartbeat to e.g. 00:00:10.")
            .Require(rabbit.PrefetchCount is >= 1 and <= 10_000, "RabbitMq:PrefetchCount",
                $"must be between 1 and 10000 (got {rabbit.PrefetchCount})", "set Bus__RabbitMq__PrefetchCount to e.g. 16.");
    }
}
