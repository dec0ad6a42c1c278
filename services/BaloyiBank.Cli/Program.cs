using BaloyiBank.Cli;

return await CommandLineApp.InvokeAsync(args);
