# The handler alone; its runtime (functions/shell-curl's bootstrap) comes from a layer.
# Handler for the shell-curl custom runtime (_HANDLER=function.handler), after AWS's
# custom-runtime tutorial: log the event to stderr and answer with a JSON document echoing it.
function handler () {
    EVENT_DATA=$1
    echo "$EVENT_DATA" 1>&2
    RESPONSE="{\"echo\": ${EVENT_DATA:-null}, \"shell\": true}"
    echo "$RESPONSE"
}
