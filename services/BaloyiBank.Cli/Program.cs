using System.CommandLine;
using System.CommandLine.Invocation;
using BaloyiBank.Cli.Commands;

var root = new RootCommand("BaloyiBank.Streaming: the bank's event-streaming pipeline and its operator commands.")
{
    RunCommand.Create(),
    StatusCommand.Create(),
    BenchCommand.Create(),
    VerifyCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Action is ParseErrorAction parseError)
{
    // A bad option gets its one-line message with the fix, not a page of help.
    parseError.ShowHelp = false;
}

return await parse.InvokeAsync();
