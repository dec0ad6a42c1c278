using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace BaloyiBank.Cli.Commands;

/// <summary>
/// Options shared by several commands, and the factories every typed option is made with. Each value is parsed by a
/// custom parser here: a malformed or out-of-range value becomes one parse error naming the option and the fix, never
/// a conversion exception (validators that call GetValue on an unconvertible value throw).
/// </summary>
internal static class CommonOptions
{
    /// <summary><c>--data</c> of a command that creates and writes the folder (run, up, the benchmarks).</summary>
    public static DataOption Data(string description = "Folder holding the pipeline's data (event log, lake, warehouse).", string? defaultPath = null) =>
        new(DataAccess.CreateAndWrite, description, defaultPath ?? "data");

    /// <summary><c>--data</c> of a command that reads an existing folder (and may write scratch files in it).</summary>
    public static DataOption ExistingData(DataAccess access, string description = "Folder holding the pipeline's data (event log, lake, warehouse).") =>
        new(access, description, "data");

    public static Option<int?> Partitions() =>
        Number<int>("--partitions", "Partitions of a new event log (default 8). An existing log keeps its own count.",
            1, 1024, "a count between 1 and 1024", "pass a count such as --partitions 8");

    /// <summary>An optional number in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="rule"/> completes "--x must be …".</summary>
    public static Option<T?> Number<T>(string name, string description, T min, T max, string rule, string fix)
        where T : struct, INumber<T> =>
        new(name)
        {
            Description = description,
            CustomParser = result => ParseNumber(result, name, min, max, rule, fix, out var value) ? value : null,
        };

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>] with a default.</summary>
    public static Option<T> Number<T>(string name, string description, T min, T max, string rule, string fix, T defaultValue)
        where T : struct, INumber<T> =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => ParseNumber(result, name, min, max, rule, fix, out var value) ? value : defaultValue,
        };

    /// <summary>A TCP port from 1024 to <paramref name="max"/> (RabbitMQ also takes port - 120 and + 20000, so it has a lower max).</summary>
    public static Option<int?> Port(string name, string description, int example, int max = 65535) =>
        Number<int>(name, description, 1024, max, PortRule(max), $"pick a free port, e.g. {name} {example.ToString(CultureInfo.InvariantCulture)}");

    public static Option<int> PortWithDefault(string name, string description, int max, int defaultValue) =>
        Number(name, description, 1024, max, PortRule(max), $"pick a free port, e.g. {name} {defaultValue.ToString(CultureInfo.InvariantCulture)}", defaultValue);

    private static string PortRule(int max) => $"a port between 1024 and {max.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A positive duration: 90s, 5m, 1h30m, 2d or 00:05:00.</summary>
    public static Option<TimeSpan?> Duration(string name, string description, string example) =>
        new(name)
        {
            Description = description,
            CustomParser = result => ParseDuration(result, name, example, out var value) ? value : null,
        };

    public static Option<TimeSpan> Duration(string name, string description, string example, TimeSpan defaultValue) =>
        new(name)
        {
            Description = description,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result => ParseDuration(result, name, example, out var value) ? value : defaultValue,
        };

    /// <summary>A UTC instant with its Z (or +00:00), such as 2026-01-01T00:00:00Z.</summary>
    public static Option<DateTimeOffset?> UtcInstant(string name, string description) =>
        new(name)
        {
            Description = description,
            CustomParser = result =>
            {
                if (Single(result, name, "pass e.g. " + name + " 2026-01-01T00:00:00Z") is not { } text)
                {
                    return null;
                }

                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant)
                    && (text.EndsWith('Z') || text.EndsWith("+00:00", StringComparison.Ordinal)))
                {
                    return instant;
                }

                result.AddError($"{name} '{text}' is not a UTC instant. Fix: pass e.g. {name} 2026-01-01T00:00:00Z (with the Z).");
                return null;
            },
        };

    /// <summary>The warehouse: <c>duckdb</c> or a postgres://user:password@host:port/database URL (null when not given and no default).</summary>
    public static Option<string?> Warehouse(string description, string? defaultValue = null)
    {
        var option = new Option<string?>("--warehouse")
        {
            Description = description,
            CustomParser = result =>
            {
                const string Fix = "Fix: pass duckdb or e.g. --warehouse postgres://baloyi@127.0.0.1:5432/baloyi (password in the URL or PGPASSWORD).";
                if (Single(result, "--warehouse", Fix[5..]) is not { } text)
                {
                    return defaultValue;
                }

                if (text == "duckdb")
                {
                    return text;
                }

                if (text.Contains('=', StringComparison.Ordinal) && !text.Contains("://", StringComparison.Ordinal))
                {
                    // Npgsql keywords (Host=…;Password=…), which the warehouse also takes; never echoed, they may hold a password.
                    if (!HasHost(text))
                    {
                        result.AddError($"--warehouse is not a valid PostgreSQL connection string (value not shown: it may hold a password); it needs Host=…;Database=…. {Fix}");
                        return defaultValue;
                    }

                    return text;
                }

                if (!text.StartsWith("postgres://", StringComparison.Ordinal) && !text.StartsWith("postgresql://", StringComparison.Ordinal))
                {
                    result.AddError($"--warehouse must be duckdb or a postgres://user:password@host:port/database URL (got '{Redact(text)}'). {Fix}");
                    return defaultValue;
                }

                // Uri rejects a bad port or host; a database is required by the connection string built from it.
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.AbsolutePath.Trim('/').Length == 0)
                {
                    result.AddError($"--warehouse '{Redact(text)}' is not a valid postgres://user:password@host:port/database URL (host, port 1-65535 and database required). {Fix}");
                    return defaultValue;
                }

                return text;
            },
        };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        return option;
    }

    private static bool HasHost(string keywords)
    {
        try
        {
            var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = keywords };
            return (builder.TryGetValue("Host", out var host) || builder.TryGetValue("Server", out host)) && host is string { Length: > 0 };
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The single token of <paramref name="result"/>, or null after adding the error (a missing value is System.CommandLine's own error).</summary>
    private static string? Single(ArgumentResult result, string name, string fix)
    {
        if (result.Tokens.Count == 0)
        {
            result.AddError($"{name} needs a value. Fix: {fix}.");
            return null;
        }

        return result.Tokens[^1].Value;
    }

    private static bool ParseNumber<T>(ArgumentResult result, string name, T min, T max, string rule, string fix, out T value)
        where T : struct, INumber<T>
    {
        value = default;
        if (Single(result, name, fix) is not { } text)
        {
            return false;
        }

        // One half truncates to 0 in an integer type only.
        var integer = T.IsInteger(T.One / (T.One + T.One));
        var styles = integer ? NumberStyles.Integer : NumberStyles.Float;
        if (!T.TryParse(text, styles, CultureInfo.InvariantCulture, out value))
        {
            result.AddError($"{name} must be {rule} (got '{text}'). Fix: {fix}.");
            return false;
        }

        // NaN and infinities parse as doubles; neither is a usable rate or count.
        if (!T.IsFinite(value) || value < min || value > max)
        {
            result.AddError($"{name} must be {rule} (got {text}). Fix: {fix}.");
            return false;
        }

        return true;
    }

    private static bool ParseDuration(ArgumentResult result, string name, string example, out TimeSpan value)
    {
        value = default;
        if (Single(result, name, $"pass e.g. {name} {example}") is not { } text)
        {
            return false;
        }

        if (DurationParser.TryParse(text, out value))
        {
            return true;
        }

        result.AddError($"{name} '{text}' is not a positive duration. Fix: pass e.g. {name} {example} (90s, 5m, 1h30m, 2d or 00:05:00).");
        return false;
    }

    /// <summary>A URL for messages: the password replaced by ***.</summary>
    private static string Redact(string url)
    {
        var at = url.LastIndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0)
        {
            return url;
        }

        var colon = url.IndexOf(':', scheme + 3);
        return colon > 0 && colon < at ? string.Concat(url.AsSpan(0, colon + 1), "***", url.AsSpan(at)) : url;
    }
}

/// <summary>What a command does with its <c>--data</c> folder, checked before the command starts any work.</summary>
internal enum DataAccess
{
    /// <summary>Creates the folder when missing and writes in it.</summary>
    CreateAndWrite,

    /// <summary>Reads a folder that exists and writes scratch files in it; a missing folder is the command's own message.</summary>
    WriteIfExists,

    /// <summary>Only reads.</summary>
    Read,
}

/// <summary><c>--data</c>: a folder, and what the command needs to do with it.</summary>
internal sealed class DataOption : Option<DirectoryInfo>
{
    public DataOption(DataAccess access, string description, string defaultPath)
        : base("--data")
    {
        Access = access;
        Description = description;
        DefaultValueFactory = _ => new DirectoryInfo(defaultPath);
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 0 ? "" : result.Tokens[^1].Value;
            try
            {
                return new DirectoryInfo(text);
            }
            catch (ArgumentException)
            {
                result.AddError($"--data '{text}' is not a folder path. Fix: pass a folder you can write, e.g. --data ./data.");
                return new DirectoryInfo(defaultPath);
            }
        };
    }

    public DataAccess Access { get; }
}
