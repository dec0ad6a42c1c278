using System.CommandLine;
using BaloyiBank.Cli.Commands;

namespace BaloyiBank.Cli;

/// <summary>
/// The command tree and the one path every invocation takes: parse, reject bad input (one line on stderr, exit
/// <see cref="UsageError"/>), check the <c>--data</c> folder, then run the command. Nothing starts before both checks.
/// </summary>
internal static class CommandLineApp
{
    /// <summary>The exit code of bad input: a malformed or out-of-range option, an unusable <c>--data</c> folder.</summary>
    public const int UsageError = 2;

    public static RootCommand CreateRoot() => new("BaloyiBank.Streaming: the bank's event-streaming pipeline and its operator commands.")
    {
        RunCommand.Create(),
        StatusCommand.Create(),
        BenchCommand.Create(),
        VerifyCommand.Create(),
        UpCommand.Create(),
        DownCommand.Create(),
        BackfillCommand.Create(),
        BackfillCommand.CreateExport(),
        ReplayCommand.Create(),
        ReportCommand.Create(),
    };

    /// <summary>
    /// Runs <paramref name="args"/>. <paramref name="beforeAction"/> (tests) sees each parse that passed the checks, just
    /// before its command would run (not for --help); returning a code stops there with it.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null,
        Func<ParseResult, int?>? beforeAction = null, CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var parse = CreateRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // The first error only: one line naming the option and the fix, not a page of help.
            await error.WriteLineAsync(OneLine(parse.Errors[0].Message, parse));
            return UsageError;
        }

        // Only when the command itself will run (not --help or --version).
        if (parse.Action is not null && ReferenceEquals(parse.Action, parse.CommandResult.Command.Action))
        {
            foreach (var data in parse.CommandResult.Command.Options.OfType<DataOption>())
            {
                if (DataFolder.Check(parse.GetValue(data)!, data.Access) is { } problem)
                {
                    await error.WriteLineAsync(problem);
                    return UsageError;
                }
            }

            if (beforeAction?.Invoke(parse) is { } stopped)
            {
                return stopped;
            }
        }

        // Ctrl-C / SIGTERM cancel the command's token; the run then stops its services gracefully (the current
        // flush or gold round finishes or is abandoned safely) and prints its summary. System.CommandLine's
        // default of 2 s before it exits on its own is too short for that; the host's own shutdown limit is 30 s.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45), Output = output, Error = error }, cancellationToken);
    }

    /// <summary>The message on one line, ending with a fix (System.CommandLine's own messages, e.g. an unknown option, have none).</summary>
    private static string OneLine(string message, ParseResult parse)
    {
        var line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (line.Contains("Fix:", StringComparison.Ordinal))
        {
            return line;
        }

        var path = string.Join(' ', parse.CommandResult.Command == parse.RootCommandResult.Command
            ? ["baloyi"]
            : Enumerable.Reverse(Ancestors(parse.CommandResult)).Prepend("baloyi"));
        return $"{line} Fix: see {path} --help.";
    }

    private static IEnumerable<string> Ancestors(System.CommandLine.Parsing.CommandResult result)
    {
        for (var r = result; r.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent)
        {
            yield return r.Command.Name;
        }
    }
}

/// <summary>Whether a <c>--data</c> folder can be used, tried for real (root ignores permission bits, so asking is not enough).</summary>
internal static class DataFolder
{
    /// <summary>Null when the command can use <paramref name="folder"/>; else the one line to print.</summary>
    public static string? Check(DirectoryInfo folder, DataAccess access)
    {
        if (access == DataAccess.Read || (access == DataAccess.WriteIfExists && !folder.Exists))
        {
            return null;
        }

        try
        {
            Directory.CreateDirectory(folder.FullName);
            // A probe file proves the folder is writable (a read-only mount or permissions); deleted on close.
            using var probe = new FileStream(Path.Combine(folder.FullName, $".baloyi-write-check-{Environment.ProcessId}"),
                FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return null;
        }
        catch (Exception problem) when (problem is IOException or UnauthorizedAccessException)
        {
            var what = access == DataAccess.CreateAndWrite ? "cannot be created or written" : "cannot be written";
            return $"--data {folder.FullName} {what}: {problem.Message.TrimEnd('.')}. Fix: pass --data a folder you can write, e.g. --data ./data.";
        }
    }
}
