using System.Globalization;

namespace BaloyiBank.EventHubs.TestDouble;

/// <summary>The data folder's <c>hub.txt</c>: the hub name, partition count and creation time it was made with.</summary>
internal static class HubManifest
{
    public static DateTime LoadOrCreate(EventHubsTestDoubleOptions options)
    {
        var folder = options.DataDirectory!;
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "hub.txt");
        if (!File.Exists(path))
        {
            var created = DateTime.UnixEpoch.AddMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            File.WriteAllLines(path, [
                $"hub={options.HubName}",
                string.Create(CultureInfo.InvariantCulture, $"partitions={options.PartitionCount}"),
                string.Create(CultureInfo.InvariantCulture, $"created={new DateTimeOffset(created, TimeSpan.Zero).ToUnixTimeMilliseconds()}"),
            ]);
            return created;
        }

        var values = File.ReadAllLines(path).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
        var hub = values.GetValueOrDefault("hub");
        var partitions = values.GetValueOrDefault("partitions");
        if (!string.Equals(hub, options.HubName, StringComparison.Ordinal)
            || partitions != options.PartitionCount.ToString(CultureInfo.InvariantCulture)
            || !long.TryParse(values.GetValueOrDefault("created"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var createdMs))
        {
            throw new InvalidOperationException(
                $"The data folder '{folder}' holds hub '{hub}' with {partitions} partitions, not hub '{options.HubName}' with {options.PartitionCount}. " +
                "Start with the stored hub name and partition count, or use another (or an empty) folder.");
        }

        return DateTime.UnixEpoch.AddMilliseconds(createdMs);
    }
}
