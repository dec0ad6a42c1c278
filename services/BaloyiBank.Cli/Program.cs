using System.CommandLine;
using System.CommandLine.Invocation;
using BaloyiBank.Cli.Commands;

var root = new RootCommand("BaloyiBank.Streaming: the bank's event-streaming pipeline and its operator commands.")
{
    RunCommand.Create(),
    StatusCommand.Create(),
    BenchCommand.Create(),
    VerifyCommand.Create(),
    UpCommand.Create(),
    DownCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Action is ParseErrorAction parseError)
{
    // A bad option gets its one-line message with the fix, not a page of help.
    parseError.ShowHelp = false;
}

// Ctrl-C / SIGTERM cancel the command's token; the run then stops its services gracefully (the current
// flush or gold round finishes or is abandoned safely) and prints its summary. System.CommandLine's
// default of 2 s before it exits on its own is too short for that; the host's own shutdown limit is 30 s.
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) });
