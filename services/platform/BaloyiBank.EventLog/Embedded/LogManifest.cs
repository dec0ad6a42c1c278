using System.Text.Json;
using System.Text.Json.Serialization;

namespace BaloyiBank.EventLog.Embedded;

/// <summary>
/// <c>log.json</c>: what a log folder holds. Written once when the log is created; the partition
/// count is fixed from then on because keys map to partitions by count.
/// </summary>
internal sealed record LogManifest(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("formatVersion")] int FormatVersion,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("partitions")] int Partitions,
    [property: JsonPropertyName("createdAt")] DateTimeOffset CreatedAt)
{
    public const string FileName = "log.json";
    public const string FormatName = "baloyibank-embedded-event-log";
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Reads the folder's manifest, or creates it for a new log; fails clearly on any mismatch.</summary>
    public static LogManifest OpenOrCreate(string root, string name, int partitions, DateTimeOffset now)
    {
        var path = Path.Combine(root, FileName);
        if (!File.Exists(path))
        {
            if (Directory.EnumerateDirectories(root, "partition-*").Any())
            {
                throw new EventLogConfigurationException(
                    $"The folder '{root}' holds partition folders but no {FileName}, so its partition count is unknown. " +
                    $"Restore {FileName} from a backup, or use another --data folder.");
            }

            var created = new LogManifest(FormatName, CurrentVersion, name, partitions, now);
            var temporary = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(created, JsonOptions));
            try
            {
                // Atomic and create-only: of two processes creating the log at once, one wins and the other validates against it.
                File.Move(temporary, path, overwrite: false);
                return created;
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }

        var manifest = Read(path);
        if (manifest.Format != FormatName || manifest.FormatVersion != CurrentVersion)
        {
            throw new EventLogConfigurationException(
                $"'{path}' describes format '{manifest.Format}' version {manifest.FormatVersion}; this build reads '{FormatName}' version {CurrentVersion}. " +
                "Use a matching build, or another --data folder.");
        }

        if (manifest.Partitions != partitions)
        {
            throw new EventLogConfigurationException(
                $"The event log '{manifest.Name}' in '{root}' has {manifest.Partitions} partitions, fixed when it was created, but {partitions} were configured. " +
                $"Set EventLog__Partitions (or --partitions) to {manifest.Partitions}, or use another --data folder for a log with {partitions} partitions.");
        }

        if (!string.Equals(manifest.Name, name, StringComparison.Ordinal))
        {
            throw new EventLogConfigurationException(
                $"The folder '{root}' holds the event log '{manifest.Name}', but the configured name is '{name}'. " +
                $"Set EventLog__Name to {manifest.Name}, or use another --data folder for '{name}'.");
        }

        return manifest;
    }

    internal static LogManifest Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<LogManifest>(File.ReadAllText(path), JsonOptions)
                ?? throw new JsonException("empty document");
        }
        catch (JsonException ex)
        {
            throw new EventLogConfigurationException($"'{path}' is not a readable event log manifest ({ex.Message}). Restore it from a backup, or use another --data folder.", ex);
        }
    }
}
