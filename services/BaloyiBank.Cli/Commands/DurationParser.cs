using System.Globalization;
using System.Text.RegularExpressions;

namespace BaloyiBank.Cli.Commands;

/// <summary>Parses operator durations: <c>90s</c>, <c>5m</c>, <c>1h30m</c>, <c>2d</c>, or a TimeSpan such as <c>00:05:00</c>.</summary>
internal static partial class DurationParser
{
    [GeneratedRegex(@"^(?:(?<d>\d+)d)?(?:(?<h>\d+)h)?(?:(?<m>\d+)m)?(?:(?<s>\d+(?:\.\d+)?)s)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Units();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var match = Units().Match(text.Trim());
        if (match.Success && match.Length > 0)
        {
            double Part(string name) => match.Groups[name].Success ? double.Parse(match.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
            duration = TimeSpan.FromDays(Part("d")) + TimeSpan.FromHours(Part("h")) + TimeSpan.FromMinutes(Part("m")) + TimeSpan.FromSeconds(Part("s"));
            return duration > TimeSpan.Zero;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration > TimeSpan.Zero;
    }
}
