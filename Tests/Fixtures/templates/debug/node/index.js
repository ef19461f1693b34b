exports.handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return { debugged: true, execArgv: process.execArgv, event };
};
