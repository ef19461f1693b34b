// Test fixture: callback-style handler (event, context, callback).
// Answers asynchronously through the callback; callback(new Error(event.error)) when set.
exports.handler = (event, context, callback) => {
  setTimeout(() => {
    if (event && event.error) {
      callback(new Error(event.error));
      return;
    }
    callback(null, { callback: true, echo: event, requestId: context.awsRequestId });
  }, 10);
};
