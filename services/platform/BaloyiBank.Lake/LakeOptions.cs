using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake;

/// <summary>Where the lake lives. Section "Lake".</summary>
public sealed class LakeOptions
{
    public const string SectionName = "Lake";
    public const string FolderKind = "folder";
    public const string BlobKind = "blob";

    /// <summary>The implementations built into this assembly ("blob" needs the BaloyiBank.Lake.Blob adapter's AddBlobLake).</summary>
    public static readonly IReadOnlyList<string> Kinds = [FolderKind];

    /// <summary>Which implementation: "folder" (a local folder, the embedded default) or "blob" (Azure Blob / ADLS Gen2 / Azurite).</summary>
    public string Kind { get; set; } = FolderKind;

    public FolderLakeOptions Folder { get; set; } = new();

    /// <summary>
    /// How long a data file removed from a Delta table (by compaction or a rewrite) stays in the lake before the owning
    /// service's vacuum deletes it. A reader of a table version older than this (time travel, or a downstream stage
    /// lagging that far behind) loses those files; checkpoints forget tombstones older than this too.
    /// </summary>
    public TimeSpan VacuumRetention { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Section "Lake:Folder".</summary>
public sealed class FolderLakeOptions
{
    /// <summary>The lake's root folder; relative paths resolve against the working directory.</summary>
    public string Root { get; set; } = "./data/lake";
}

/// <summary>Checks section "Lake"; the kinds offered are those of the registered <see cref="ILakeBackend"/>s.</summary>
public sealed class LakeOptionsValidator(IEnumerable<ILakeBackend> backends) : IValidateOptions<LakeOptions>
{
    public LakeOptionsValidator()
        : this([new FolderLakeBackend()])
    {
    }

    public ValidateOptionsResult Validate(string? name, LakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionProblems(LakeOptions.SectionName);
        var registered = backends.Select(b => b.Kind).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var kinds = string.Join(", ", registered);
        var kindKnown = registered.Contains(options.Kind, StringComparer.OrdinalIgnoreCase);
        var blobMissing = string.Equals(options.Kind, LakeOptions.BlobKind, StringComparison.OrdinalIgnoreCase);
        problems.Require(kindKnown, "Kind", $"must be one of {kinds} (got '{options.Kind}')",
            blobMissing ? $"set Lake__Kind to {kinds}, or register the blob lake (services.AddBlobLake(configuration) from BaloyiBank.Lake.Blob)." : $"set Lake__Kind to {kinds}.");
        problems.Require(options.VacuumRetention >= TimeSpan.FromMinutes(1) && options.VacuumRetention <= TimeSpan.FromDays(30), "VacuumRetention",
            $"must be between 00:01:00 and 30.00:00:00 (got {options.VacuumRetention})",
            "set Lake__VacuumRetention above the longest lag of a reader of older table versions, e.g. 01:00:00.");
        if (string.Equals(options.Kind, LakeOptions.FolderKind, StringComparison.OrdinalIgnoreCase))
        {
            var root = options.Folder?.Root;
            problems.Require(!string.IsNullOrWhiteSpace(root), "Folder:Root", "must name a folder (got nothing)",
                "set Lake__Folder__Root to a local folder, e.g. ./data/lake.");
            if (!string.IsNullOrWhiteSpace(root))
            {
                problems.Require(IsUsablePath(root), "Folder:Root", $"is not a valid folder path (got '{root}')",
                    "set Lake__Folder__Root to a local folder, e.g. ./data/lake.");
            }
        }

        return problems.ToResult();
    }

    private static bool IsUsablePath(string root)
    {
        try
        {
            _ = Path.GetFullPath(root);
            return !root.Contains('\0', StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }
}
