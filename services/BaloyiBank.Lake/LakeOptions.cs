using BaloyiBank.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BaloyiBank.Lake;

/// <summary>Where the lake lives. Section "Lake".</summary>
public sealed class LakeOptions
{
    public const string SectionName = "Lake";
    public const string FolderKind = "folder";

    /// <summary>The lake's implementations, for messages ("blob" joins when the Blob REST client lands).</summary>
    public static readonly IReadOnlyList<string> Kinds = [FolderKind];

    /// <summary>Which implementation: "folder" (a local folder, the embedded default).</summary>
    public string Kind { get; set; } = FolderKind;

    public FolderLakeOptions Folder { get; set; } = new();
}

/// <summary>Section "Lake:Folder".</summary>
public sealed class FolderLakeOptions
{
    /// <summary>The lake's root folder; relative paths resolve against the working directory.</summary>
    public string Root { get; set; } = "./data/lake";
}

public sealed class LakeOptionsValidator : IValidateOptions<LakeOptions>
{
    public ValidateOptionsResult Validate(string? name, LakeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionProblems(LakeOptions.SectionName);
        var kinds = string.Join(", ", LakeOptions.Kinds);
        var kindKnown = LakeOptions.Kinds.Contains(options.Kind, StringComparer.OrdinalIgnoreCase);
        problems.Require(kindKnown, "Kind", $"must be one of {kinds} (got '{options.Kind}')", $"set Lake__Kind to {kinds}.");
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
