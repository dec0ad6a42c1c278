using System.Text.RegularExpressions;

namespace BaloyiBank.Warehouse;

/// <summary>
/// Schema, table, view and column names: chosen in code or in validated configuration, never taken from
/// data. One rule for every engine: lower-case snake_case ASCII, 1–63 characters (PostgreSQL's limit),
/// starting with a letter. Every generated statement also quotes them (<c>"x"</c> or <c>[x]</c>), so a
/// reserved word such as <c>at</c> or <c>order</c> is still a valid column name.
/// </summary>
public static partial class SqlIdentifier
{
    public const int MaxLength = 63;

    /// <summary>True when <paramref name="name"/> follows the rule.</summary>
    public static bool IsValid(string? name) => name is { Length: > 0 and <= MaxLength } && Pattern().IsMatch(name);

    /// <summary>Returns <paramref name="name"/> or throws <see cref="ArgumentException"/> naming what it is and the rule.</summary>
    public static string Require(string? name, string what)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException(
                $"The {what} '{name}' is not a valid warehouse identifier: use 1-{MaxLength} lower-case letters, digits and '_', starting with a letter (e.g. account_balances).",
                nameof(name));
        }

        return name!;
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
