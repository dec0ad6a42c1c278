using System.Globalization;

namespace BaloyiBank.Lake.RaceChild;

/// <summary>The names and contents both the child and the test agree on.</summary>
public static class RaceNames
{
    public static string Path(int i) => string.Create(CultureInfo.InvariantCulture, $"race/{i:D4}.json");

    public static string Content(string racer, int i) => string.Create(CultureInfo.InvariantCulture, $"{{\"racer\":\"{racer}\",\"name\":{i}}}");
}
