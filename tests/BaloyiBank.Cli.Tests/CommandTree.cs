using System.CommandLine;
using System.CommandLine.Help;
using BaloyiBank.Cli.Commands;

namespace BaloyiBank.Cli.Tests;

/// <summary>The CLI's own command tree, walked by reflection over its options, so a new command or option is tested without being listed here.</summary>
internal static class CommandTree
{
    /// <summary>Every command that runs something (has an action), with its path below the root, e.g. ["bench", "log"].</summary>
    public static IReadOnlyList<(string[] Path, Command Command)> Runnable()
    {
        var found = new List<(string[], Command)>();
        Walk(CommandLineApp.CreateRoot(), []);
        return found;

        void Walk(Command command, string[] path)
        {
            if (command.Action is not null && path.Length > 0)
            {
                found.Add((path, command));
            }

            foreach (var sub in command.Subcommands)
            {
                Walk(sub, [.. path, sub.Name]);
            }
        }
    }

    /// <summary>The options of <paramref name="command"/> an operator types a value for (not flags, help or version).</summary>
    public static IEnumerable<Option> ValueOptions(Command command) =>
        command.Options.Where(o => o is not HelpOption and not VersionOption && Underlying(o.ValueType) != typeof(bool));

    /// <summary>True for values that are parsed rather than taken as text: numbers, durations, instants.</summary>
    public static bool IsParsed(Type valueType) => Kind(valueType) is not ValueKind.Other;

    public static ValueKind Kind(Type valueType)
    {
        var type = Underlying(valueType);
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return ValueKind.Fractional;
        }

        if (type.IsPrimitive && type != typeof(bool) && type != typeof(char))
        {
            return ValueKind.Integer;
        }

        return type == typeof(TimeSpan) ? ValueKind.Duration : type == typeof(DateTimeOffset) || type == typeof(DateTime) ? ValueKind.Instant : ValueKind.Other;
    }

    /// <summary>Values no option of <paramref name="kind"/> may accept.</summary>
    public static string[] Malformed(ValueKind kind) => kind switch
    {
        ValueKind.Integer => ["abc", "1e9x", "12abc", "1.5", "", "99999999999999999999999"],
        ValueKind.Fractional => ["abc", "1e9x", "12abc", "1,5", "", "NaN"],
        ValueKind.Duration => ["5x", "abc", "", "-5m", "0s"],
        ValueKind.Instant => ["abc", "2026-13-01T00:00:00Z", "2026-01-01"],
        _ => [],
    };

    public static DataOption? Data(Command command) => command.Options.OfType<DataOption>().SingleOrDefault();

    private static Type Underlying(Type type) => Nullable.GetUnderlyingType(type) ?? type;
}

internal enum ValueKind
{
    Other,
    Integer,
    Fractional,
    Duration,
    Instant,
}
