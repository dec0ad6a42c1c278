using System.CommandLine;

namespace BaloyiBank.Cli.Commands;

/// <summary>Options shared by several commands, parsed and checked the same way everywhere.</summary>
internal static class CommonOptions
{
    public static Option<DirectoryInfo> Data() => new("--data")
    {
        Description = "Folder holding the pipeline's data (event log, lake, warehouse).",
        DefaultValueFactory = _ => new DirectoryInfo("data"),
    };

    public static Option<int?> Partitions()
    {
        var option = new Option<int?>("--partitions")
        {
            Description = "Partitions of a new event log (default 8). An existing log keeps its own count.",
        };
        option.Validators.Add(r =>
        {
            if (r.GetValue(option) is { } p && p is < 1 or > 1024)
            {
                r.AddError($"--partitions must be between 1 and 1024 (got {p}). Fix: pass a count such as --partitions 8.");
            }
        });
        return option;
    }
}
