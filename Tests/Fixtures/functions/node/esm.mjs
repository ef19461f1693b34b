// Test fixture: ES module async handler.
export const handler = async (event, context) => {
  if (event && event.error) {
    throw new RangeError(event.error);
  }
  return { esm: true, echo: event, name: context.functionName };
};
