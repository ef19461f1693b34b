// Test fixture: CommonJS async handler.
// Echoes the event; throws TypeError(event.error) when event.error is set.
exports.handler = async (event, context) => {
  if (event && event.error) {
    throw new TypeError(event.error);
  }
  return {
    echo: event,
    remaining: context.getRemainingTimeInMillis() > 0,
    name: context.functionName,
  };
};
