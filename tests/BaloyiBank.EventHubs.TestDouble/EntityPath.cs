using System.Globalization;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>The entity a link address names: <c>hub</c>, <c>hub/Partitions/N</c>, <c>hub/ConsumerGroups/G/Partitions/N</c>.</summary>
internal abstract record EntityPath
{
    public sealed record Hub : EntityPath;

    public sealed record Partition(int Index) : EntityPath;

    public sealed record ConsumerPartition(string Group, int Index) : EntityPath;

    public sealed record Unknown : EntityPath;

    /// <summary>The SDK sends the path of an absolute URI (leading '/', maybe escaped); tolerate a full URI too.</summary>
    public static string? Normalize(string? address)
    {
        if (address is null)
        {
            return null;
        }

        if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "sb")
        {
            address = uri.AbsolutePath;
        }

        return Uri.UnescapeDataString(address).Trim('/');
    }

    public static EntityPath Parse(string? address, string hubName, int partitionCount)
    {
        var parts = (address ?? string.Empty).Split('/');
        if (parts.Length == 0 || !string.Equals(parts[0], hubName, StringComparison.OrdinalIgnoreCase))
        {
            return new Unknown();
        }

        return parts switch
        {
            [_] => new Hub(),
            [_, var p, var n] when Is(p, "Partitions") && TryPartition(n, partitionCount, out var index) => new Partition(index),
            [_, var c, var g, var p, var n] when Is(c, "ConsumerGroups") && Is(p, "Partitions") && TryPartition(n, partitionCount, out var index) => new ConsumerPartition(g, index),
            _ => new Unknown(),
        };
    }

    private static bool Is(string part, string name) => string.Equals(part, name, StringComparison.OrdinalIgnoreCase);

    private static bool TryPartition(string text, int count, out int index) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out index) && index < count;
}
